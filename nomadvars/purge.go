package nomadvars

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/nomad/api"

	"github.com/nomad-tune/tune/jobs"
)

// Purge deletes the Variables a Publisher wrote for the experiment: those
// of the jobs named (the experiment's trial jobs, found by their meta) and
// the summary, in namespace. Nomad keeps a job's Variable when the job is
// purged, so tune stop -purge removes them itself. A Variable that is not
// there is no error; the first other failure is returned after every
// delete was tried.
func Purge(ctx context.Context, client *api.Client, experiment, namespace string, jobIDs []string) (deleted int, err error) {
	q := (&api.WriteOptions{Namespace: namespace}).WithContext(ctx)
	paths := make([]string, 0, len(jobIDs)+1)
	for _, id := range jobIDs {
		paths = append(paths, "nomad/jobs/"+id)
	}
	paths = append(paths, jobs.SummaryPath(experiment))
	var errs []error
	for _, path := range paths {
		v, _, rerr := client.Variables().Peek(path, (&api.QueryOptions{Namespace: namespace}).WithContext(ctx))
		if rerr != nil {
			errs = append(errs, fmt.Errorf("reading the Variable %s: %w", path, rerr))
			continue
		}
		// Only tune's own: a job Variable someone else wrote names no
		// tune trial.
		if v == nil || v.Items["experiment"] != experiment {
			continue
		}
		if _, derr := client.Variables().CheckedDelete(path, v.ModifyIndex, q); derr != nil {
			errs = append(errs, fmt.Errorf("deleting the Variable %s: %w", path, derr))
			continue
		}
		deleted++
	}
	return deleted, errors.Join(errs...)
}
