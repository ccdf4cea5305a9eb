package results

import "path/filepath"

// WriteExperimentFile replaces one file of an experiment's folder whole,
// as tune writes its own files there: atomically, never through a link.
// It is for files other packages derive from the results (the report
// page), so that a reader never sees half of one.
func WriteExperimentFile(root, experiment, file string, data []byte) error {
	if err := CheckExperimentName(experiment); err != nil {
		return err
	}
	if err := checkName("file name", file); err != nil {
		return err
	}
	d, err := openFolder(filepath.Join(root, experiment))
	if err != nil {
		return err
	}
	defer func() { _ = d.close() }()
	return writeFileAtomic(d, file, data, false)
}
