package nomadvars

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// Purge deletes the Variables a Publisher wrote for the experiment: those
// under the jobs named (the experiment's trial jobs, found by their meta)
// and the summary, in namespace. Nomad keeps a job's Variables when the
// job is purged, so tune stop -purge removes them itself. Only Variables
// that name the experiment are deleted; the first failures are returned
// after every delete was tried.
func Purge(ctx context.Context, client *api.Client, experiment, namespace string, jobIDs []string) (deleted int, err error) {
	q := (&api.QueryOptions{Namespace: namespace}).WithContext(ctx)
	w := (&api.WriteOptions{Namespace: namespace}).WithContext(ctx)
	var errs []error
	var paths []string
	for _, id := range jobIDs {
		metas, _, lerr := client.Variables().PrefixList("nomad/jobs/"+id+"/", q)
		if lerr != nil {
			errs = append(errs, fmt.Errorf("listing the Variables of job %s: %w", id, lerr))
			continue
		}
		for _, m := range metas {
			paths = append(paths, m.Path)
		}
	}
	paths = append(paths, jobs.SummaryPath(experiment))
	for _, path := range paths {
		v, _, rerr := client.Variables().Peek(path, q)
		if rerr != nil {
			errs = append(errs, fmt.Errorf("reading the Variable %s: %w", path, rerr))
			continue
		}
		if v == nil || v.Items["experiment"] != experiment {
			continue
		}
		if _, derr := client.Variables().CheckedDelete(path, v.ModifyIndex, w); derr != nil {
			errs = append(errs, fmt.Errorf("deleting the Variable %s: %w", path, derr))
			continue
		}
		deleted++
	}
	return deleted, errors.Join(errs...)
}
