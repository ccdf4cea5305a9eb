package nomadsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/nomad/api"
)

const jobNotFound = "job not found"

// multiError formats errors as hashicorp/go-multierror does, which is how
// Nomad reports job validation failures.
type multiError []error

func (m multiError) Error() string {
	if len(m) == 1 {
		return fmt.Sprintf("1 error occurred:\n\t* %s\n\n", m[0])
	}
	points := make([]string, len(m))
	for i, e := range m {
		points[i] = "* " + e.Error()
	}
	return fmt.Sprintf("%d errors occurred:\n\t%s\n\n", len(m), strings.Join(points, "\n\t"))
}

func (m multiError) orNil() error {
	if len(m) == 0 {
		return nil
	}
	return m
}

// canonicalize applies the defaults the Nomad agent and server add to a
// submitted job: the api package's own Canonicalize (restart, reschedule,
// resources, disk, log defaults), then the server's (datacenters "*",
// node pool "default", empty collections nil).
func canonicalize(job *api.Job) {
	job.Canonicalize()
	if len(job.Datacenters) == 0 {
		job.Datacenters = []string{"*"}
	}
	if *job.NodePool == "" {
		job.NodePool = new(api.NodePoolDefault)
	}
	if len(job.Meta) == 0 {
		job.Meta = nil
	}
	if len(job.Constraints) == 0 {
		job.Constraints = nil
	}
	for _, tg := range job.TaskGroups {
		for _, t := range tg.Tasks {
			if t.RestartPolicy == nil {
				t.RestartPolicy = tg.RestartPolicy
			}
		}
	}
}

// validateJob checks what Nomad's Job.Validate checks that matters to
// the jobs the simulator runs; errors nest the way Nomad's do.
func validateJob(j *api.Job) error {
	var errs multiError
	switch {
	case *j.ID == "":
		errs = append(errs, errors.New("Missing job ID"))
	case strings.Contains(*j.ID, " "):
		errs = append(errs, errors.New("Job ID contains a space"))
	case strings.Contains(*j.ID, "\000"):
		errs = append(errs, errors.New("Job ID contains a null character"))
	}
	if *j.Name == "" {
		errs = append(errs, errors.New("Missing job name"))
	}
	switch *j.Type {
	case api.JobTypeService, api.JobTypeBatch, api.JobTypeSystem, api.JobTypeSysbatch:
	case "":
		errs = append(errs, errors.New("Missing job type"))
	default:
		errs = append(errs, fmt.Errorf("Invalid job type: %q", *j.Type))
	}
	for _, dc := range j.Datacenters {
		if dc == "" {
			errs = append(errs, errors.New("Job datacenter must be non-empty string"))
		}
	}
	if *j.Priority < 1 || *j.Priority > 100 {
		errs = append(errs, fmt.Errorf("job priority must be between [1, 100]"))
	}
	if len(j.TaskGroups) == 0 {
		errs = append(errs, errors.New("Missing job task groups"))
	}
	for i, c := range j.Constraints {
		if err := validateConstraint(c); err != nil {
			errs = append(errs, fmt.Errorf("Constraint %d validation failed: %s", i+1, err))
		}
	}
	seen := map[string]int{}
	for i, tg := range j.TaskGroups {
		if *tg.Name == "" {
			errs = append(errs, fmt.Errorf("Job task group %d missing name", i+1))
		} else if prev, ok := seen[*tg.Name]; ok {
			errs = append(errs, fmt.Errorf("Job task group %d redefines '%s' from group %d", i+1, *tg.Name, prev+1))
		} else {
			seen[*tg.Name] = i
		}
	}
	for _, tg := range j.TaskGroups {
		if err := validateGroup(j, tg); err != nil {
			errs = append(errs, fmt.Errorf("Task group %s validation failed: %v", *tg.Name, err))
		}
	}
	return errs.orNil()
}

var knownOperands = map[string]bool{
	"=": true, "==": true, "is": true, "!=": true, "not": true, "<": true, "<=": true, ">": true, ">=": true,
	"regexp": true, "version": true, "semver": true, "set_contains": true, "set_contains_all": true,
	"set_contains_any": true, "is_set": true, "is_not_set": true, opDistinctHosts: true, opDistinctProperty: true,
}

func validateConstraint(c *api.Constraint) error {
	if !knownOperands[c.Operand] {
		return fmt.Errorf("Unknown constraint type %q", c.Operand)
	}
	switch c.Operand {
	case "regexp":
		if compileCached(c.RTarget) == nil {
			return fmt.Errorf("Regular expression failed to compile: %q", c.RTarget)
		}
	case opDistinctProperty:
		if c.LTarget == "" {
			return errors.New("Distinct Property must have an allowed count")
		}
	}
	return nil
}

func validateGroup(j *api.Job, tg *api.TaskGroup) error {
	var errs multiError
	if *tg.Count < 0 {
		errs = append(errs, errors.New("Task group count can't be negative"))
	}
	if len(tg.Tasks) == 0 {
		errs = append(errs, errors.New("Missing tasks for task group"))
	}
	if tg.MaxRunDuration != nil {
		if *tg.MaxRunDuration <= 0 {
			errs = append(errs, errors.New("MaxRunDuration must be greater than zero"))
		}
		if *j.Type != api.JobTypeBatch && *j.Type != api.JobTypeSysbatch {
			errs = append(errs, fmt.Errorf("Job type %q does not allow max_run_duration", *j.Type))
		}
	}
	if rp := tg.RestartPolicy; rp != nil && rp.Mode != nil && *rp.Mode != "delay" && *rp.Mode != "fail" {
		errs = append(errs, fmt.Errorf("Unsupported restart mode: %q", *rp.Mode))
	}
	for i, c := range tg.Constraints {
		if err := validateConstraint(c); err != nil {
			errs = append(errs, fmt.Errorf("Constraint %d validation failed: %s", i+1, err))
		}
	}
	seen := map[string]int{}
	leaders := 0
	for i, t := range tg.Tasks {
		if t.Name == "" {
			errs = append(errs, fmt.Errorf("Task %d missing name", i+1))
		} else if prev, ok := seen[t.Name]; ok {
			errs = append(errs, fmt.Errorf("Task %d redefines '%s' from task %d", i+1, t.Name, prev+1))
		} else {
			seen[t.Name] = i
		}
		if t.Leader {
			leaders++
		}
	}
	if leaders > 1 {
		errs = append(errs, errors.New("Only one task may be marked as leader"))
	}
	for _, t := range tg.Tasks {
		if err := validateTask(t); err != nil {
			errs = append(errs, fmt.Errorf("Task %s validation failed: %v", t.Name, err))
		}
	}
	return errs.orNil()
}

func validateTask(t *api.Task) error {
	var errs multiError
	if t.Name == "" {
		errs = append(errs, errors.New("Missing task name"))
	}
	if strings.ContainsAny(t.Name, "/\000") {
		errs = append(errs, errors.New("Task name cannot include slashes or null characters"))
	}
	if t.Driver == "" {
		errs = append(errs, errors.New("Missing task driver"))
	}
	if r := t.Resources; r != nil {
		var rerrs multiError
		cores := deref(r.Cores)
		cpu := deref(r.CPU)
		if cores > 0 && cpu > 0 {
			rerrs = append(rerrs, errors.New("Task can only ask for 'cpu' or 'cores' resource, not both."))
		}
		if cores == 0 && cpu < 1 {
			rerrs = append(rerrs, fmt.Errorf("minimum CPU value is 1; got %d", cpu))
		}
		if deref(r.MemoryMB) < 10 {
			rerrs = append(rerrs, fmt.Errorf("minimum MemoryMB value is 10; got %d", deref(r.MemoryMB)))
		}
		for i, d := range r.Devices {
			if d.Name == "" {
				rerrs = append(rerrs, fmt.Errorf("device %d failed validation: device name must be given as one of the following: type, vendor/type, or vendor/type/name", i+1))
			}
		}
		if len(rerrs) > 0 {
			errs = append(errs, fmt.Errorf("Task Resources validation failed: %v", rerrs))
		}
	}
	if t.Lifecycle != nil {
		switch t.Lifecycle.Hook {
		case api.TaskLifecycleHookPrestart, api.TaskLifecycleHookPoststart, api.TaskLifecycleHookPoststop:
		default:
			errs = append(errs, fmt.Errorf("invalid hook: %v", t.Lifecycle.Hook))
		}
	}
	for i, c := range t.Constraints {
		if err := validateConstraint(c); err != nil {
			errs = append(errs, fmt.Errorf("Constraint %d validation failed: %s", i+1, err))
		}
	}
	return errs.orNil()
}

// specJSON is the job as the user wrote it, without what the server sets,
// for Nomad's "has the spec changed" comparison.
func specJSON(j *api.Job) string {
	c := *j
	c.Status, c.StatusDescription, c.Stable, c.Version = nil, nil, nil, nil
	c.CreateIndex, c.ModifyIndex, c.JobModifyIndex, c.SubmitTime = nil, nil, nil, nil
	c.NomadTokenID = nil
	b, _ := json.Marshal(&c)
	return string(b)
}

// jobForRequest decodes a job submitted with a register or plan request
// and resolves its namespace and region as the Nomad agent does: query
// parameter first, then the request body, then the job itself.
func (s *Sim) jobForRequest(r *http.Request, job *api.Job, reqNS, reqRegion string) {
	ns := r.URL.Query().Get("namespace")
	if ns == "" {
		ns = reqNS
	}
	if ns == "" && job.Namespace != nil {
		ns = *job.Namespace
	}
	if ns == "" {
		ns = api.DefaultNamespace
	}
	job.Namespace = new(ns)
	region := r.URL.Query().Get("region")
	if region == "" {
		region = reqRegion
	}
	if region == "" && job.Region != nil {
		region = *job.Region
	}
	if region == "" || region == api.GlobalRegion {
		region = s.opts.Region
	}
	job.Region = new(region)
	canonicalize(job)
}

// checkJobRefs fails a job that names a namespace or node pool the
// cluster does not have, as Nomad's admission checks do.
func (st *state) checkJobRefs(job *api.Job) error {
	switch *job.Type {
	case api.JobTypeSystem, api.JobTypeSysbatch:
		return fmt.Errorf("job %q: the simulator does not schedule %s jobs (it schedules batch and service jobs)", *job.ID, *job.Type)
	}
	if !st.namespaces[*job.Namespace] {
		return fmt.Errorf("job %q is in nonexistent namespace %q", *job.ID, *job.Namespace)
	}
	if !st.pools[*job.NodePool] {
		return fmt.Errorf("job %q is in nonexistent node pool %q", *job.ID, *job.NodePool)
	}
	return nil
}

func (s *Sim) jobsRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	switch r.Method {
	case http.MethodGet:
		return s.jobList(w, r)
	case http.MethodPut, http.MethodPost:
		return s.jobRegister(w, r, "")
	}
	return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
}

func (s *Sim) jobSpecificRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	path := trimPath(r, "/v1/job/")
	suffix := func(sfx string) (string, bool) {
		if strings.HasSuffix(path, sfx) {
			return strings.TrimSuffix(path, sfx), true
		}
		return "", false
	}
	if id, ok := suffix("/evaluate"); ok {
		return s.jobEvaluate(w, r, id)
	}
	if id, ok := suffix("/allocations"); ok {
		return s.jobAllocations(w, r, id)
	}
	if id, ok := suffix("/evaluations"); ok {
		return s.jobEvaluations(w, r, id)
	}
	if id, ok := suffix("/plan"); ok {
		return s.jobPlan(w, r, id)
	}
	if id, ok := suffix("/summary"); ok {
		return s.jobSummary(w, r, id)
	}
	if id, ok := suffix("/versions"); ok {
		return s.jobVersions(w, r, id)
	}
	if id, ok := suffix("/deployments"); ok {
		return s.jobDeployments(w, r, id, true)
	}
	if id, ok := suffix("/deployment"); ok {
		return s.jobDeployments(w, r, id, false)
	}
	switch r.Method {
	case http.MethodGet:
		return s.jobInfo(w, r, path)
	case http.MethodPut, http.MethodPost:
		return s.jobRegister(w, r, path)
	case http.MethodDelete:
		return s.jobDeregister(w, r, path)
	}
	return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
}

// jobRegisterResponse is Nomad's structs.JobRegisterResponse.
type jobRegisterResponse struct {
	EvalID          string
	EvalCreateIndex uint64
	JobModifyIndex  uint64
	Warnings        string
	Index           uint64
	LastContact     time.Duration
	KnownLeader     bool
	NextToken       string
}

func (s *Sim) jobRegister(w http.ResponseWriter, r *http.Request, pathID string) (any, error) {
	var args api.JobRegisterRequest
	if err := decodeBody(r, &args); err != nil {
		return nil, codedErr(http.StatusBadRequest, err.Error())
	}
	if args.Job == nil {
		return nil, codedErr(http.StatusBadRequest, "Job must be specified")
	}
	if args.Job.ID == nil {
		return nil, codedErr(http.StatusBadRequest, "Job ID hasn't been provided")
	}
	if pathID != "" && *args.Job.ID != pathID {
		return nil, codedErr(http.StatusBadRequest, "Job ID does not match name")
	}
	if args.EvalPriority != 0 && (args.EvalPriority < 1 || args.EvalPriority > 100) {
		return nil, codedErr(http.StatusBadRequest, "Eval priority must be between 1 and 100 inclusively")
	}
	job := args.Job
	s.jobForRequest(r, job, args.Namespace, args.Region)
	if err := validateJob(job); err != nil {
		return nil, err
	}

	st := s.st
	st.lock()
	defer st.unlock()
	if err := st.checkJobRefs(job); err != nil {
		return nil, err
	}
	k := jobKey{*job.Namespace, *job.ID}
	var existing *api.Job
	if rec := st.jobs[k]; rec != nil {
		existing = rec.job
	}
	if args.EnforceIndex {
		if err := enforceIndex(existing, args.JobModifyIndex); err != nil {
			return nil, err
		}
	}

	resp := &jobRegisterResponse{KnownLeader: true}
	needsEval := !(job.IsPeriodic() || job.IsParameterized())
	priority := *job.Priority
	if args.EvalPriority > 0 {
		priority = args.EvalPriority
	}
	if existing != nil && specJSON(existing) == specJSON(job) {
		// An unchanged job gets no new version, only a fresh evaluation,
		// which is how `nomad job run` re-evaluates a job.
		resp.JobModifyIndex = *existing.ModifyIndex
		if !needsEval {
			resp.Index = *existing.ModifyIndex
			setIndex(w, resp.Index)
			return resp, nil
		}
		idx, _ := st.write(evEvalUpdated, func(tx *txn) error {
			e := tx.newEval(k, priority, *job.Type, triggerJobRegister)
			e.JobModifyIndex = *existing.JobModifyIndex
			tx.putEval(e)
			resp.EvalID = e.ID
			return nil
		})
		resp.EvalCreateIndex, resp.Index = idx, idx
		setIndex(w, idx)
		return resp, nil
	}

	idx, _ := st.write(evJobRegistered, func(tx *txn) error {
		job.SubmitTime = new(tx.now.UnixNano())
		job.ModifyIndex = new(tx.index)
		job.JobModifyIndex = new(tx.index)
		job.Stable = new(false)
		job.StatusDescription = new("")
		if existing != nil {
			job.CreateIndex = new(*existing.CreateIndex)
			job.Version = new(*existing.Version + 1)
		} else {
			job.CreateIndex = new(tx.index)
			job.Version = new(uint64(0))
		}
		if needsEval {
			e := tx.newEval(k, priority, *job.Type, triggerJobRegister)
			e.JobModifyIndex = tx.index
			resp.EvalID = e.ID
			// The evaluation goes in first so the job is stored with the
			// status it has once both are written: pending.
			tx.putEval(e)
		}
		job.Status = new(st.jobStatus(k, job))
		tx.putJob(job)
		return nil
	})
	resp.JobModifyIndex, resp.Index = idx, idx
	if needsEval {
		resp.EvalCreateIndex = idx
	}
	setIndex(w, idx)
	return resp, nil
}

// enforceIndex is Nomad's Job.EnforceIndex, with its messages.
func enforceIndex(existing *api.Job, index uint64) error {
	const prefix = api.RegisterEnforceIndexErrPrefix
	if existing != nil {
		if index == 0 {
			return fmt.Errorf("%s 0: job already exists", prefix)
		}
		if index != *existing.JobModifyIndex {
			return fmt.Errorf("%s %d: job exists with conflicting job modify index: %d", prefix, index, *existing.JobModifyIndex)
		}
		return nil
	}
	if index != 0 {
		return fmt.Errorf("%s %d: job does not exist", prefix, index)
	}
	return nil
}

type jobDeregisterResponse struct {
	EvalID          string
	EvalCreateIndex uint64
	JobModifyIndex  uint64
	VolumeEvalID    string
	VolumeEvalIndex uint64
	Index           uint64
	LastContact     time.Duration
	KnownLeader     bool
	NextToken       string
}

func (s *Sim) jobDeregister(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	purge, err := parseBoolParam(r, "purge")
	if err != nil {
		return nil, err
	}
	if _, err := parseBoolParam(r, "global"); err != nil {
		return nil, err
	}
	if _, err := parseBoolParam(r, "no_shutdown_delay"); err != nil {
		return nil, fmt.Errorf("Failed to parse value of %qq (%v) as a bool: %v", "no_shutdown_delay", r.URL.Query().Get("no_shutdown_delay"), err)
	}
	evalPriority := 0
	if v := r.URL.Query().Get("eval_priority"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("Failed to parse value of %q (%v) as a int: %v", "eval_priority", v, err)
		}
		if n > 0 && n > 100 {
			return nil, codedErr(http.StatusBadRequest, "Eval priority must be between 1 and 100 inclusively")
		}
		evalPriority = n
	}
	if jobID == "" {
		return nil, errors.New("missing job ID for deregistering")
	}
	st := s.st
	st.lock()
	defer st.unlock()
	k := jobKey{namespaceParam(r), jobID}
	rec := st.jobs[k]
	resp := &jobDeregisterResponse{KnownLeader: true}
	if rec == nil {
		// Nomad answers a deregister of an unknown job with success and
		// no evaluation.
		setIndex(w, 0)
		return resp, nil
	}
	job := rec.job
	idx, _ := st.write(evJobDeregistered, func(tx *txn) error {
		if purge {
			tx.deleteJob(k)
		} else {
			stopped := *job
			stopped.Stop = new(true)
			stopped.SubmitTime = new(tx.now.UnixNano())
			stopped.Version = new(*job.Version + 1)
			stopped.ModifyIndex = new(tx.index)
			stopped.JobModifyIndex = new(tx.index)
			stopped.Stable = new(false)
			tx.putJob(&stopped)
		}
		if !(job.IsPeriodic() || job.IsParameterized()) {
			prio := *job.Priority
			if evalPriority > 0 {
				prio = evalPriority
			}
			// Nomad gives deregistration evaluations the service type
			// whatever the job's type is.
			e := tx.newEval(k, prio, api.JobTypeService, triggerJobDeregister)
			e.JobModifyIndex = tx.index
			tx.putEval(e)
			resp.EvalID = e.ID
		}
		return nil
	})
	resp.JobModifyIndex, resp.EvalCreateIndex, resp.Index = idx, idx, idx
	setIndex(w, idx)
	return resp, nil
}

func (s *Sim) jobEvaluate(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	if !methodIs(r, http.MethodPut, http.MethodPost) {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	if r.ContentLength != 0 {
		var args api.JobEvaluateRequest
		if err := decodeBody(r, &args); err != nil {
			return nil, codedErr(http.StatusBadRequest, err.Error())
		}
		if args.JobID == "" {
			return nil, codedErr(http.StatusBadRequest, "Job ID must be specified")
		}
		if args.JobID != jobID {
			return nil, codedErr(http.StatusBadRequest, "JobID not same as job name")
		}
	}
	st := s.st
	st.lock()
	defer st.unlock()
	k := jobKey{namespaceParam(r), jobID}
	rec := st.jobs[k]
	if rec == nil {
		return nil, errors.New("job not found")
	}
	if rec.job.IsPeriodic() || rec.job.IsParameterized() {
		return nil, errors.New("can't evaluate periodic or parameterized job")
	}
	resp := &jobRegisterResponse{KnownLeader: true}
	idx, _ := st.write(evEvalUpdated, func(tx *txn) error {
		e := tx.newEval(k, *rec.job.Priority, *rec.job.Type, triggerJobRegister)
		e.JobModifyIndex = *rec.job.JobModifyIndex
		tx.putEval(e)
		resp.EvalID = e.ID
		return nil
	})
	resp.EvalCreateIndex, resp.JobModifyIndex, resp.Index = idx, *rec.job.ModifyIndex, idx
	setIndex(w, idx)
	return resp, nil
}

// jobPlanResponse is Nomad's structs.JobPlanResponse.
type jobPlanResponse struct {
	Annotations        *api.PlanAnnotations
	FailedTGAllocs     map[string]*api.AllocationMetric
	JobModifyIndex     uint64
	CreatedEvals       []*api.Evaluation
	Diff               *api.JobDiff
	NextPeriodicLaunch time.Time
	Warnings           string
	Index              uint64
}

// jobPlan is a dry run: the scheduler's answer for the job as if it were
// registered now, with nothing written.
func (s *Sim) jobPlan(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	if !methodIs(r, http.MethodPut, http.MethodPost) {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	var args api.JobPlanRequest
	if err := decodeBody(r, &args); err != nil {
		return nil, codedErr(http.StatusBadRequest, err.Error())
	}
	if args.Job == nil {
		return nil, codedErr(http.StatusBadRequest, "Job must be specified")
	}
	if args.Job.ID == nil {
		return nil, codedErr(http.StatusBadRequest, "Job must have a valid ID")
	}
	if jobID != "" && *args.Job.ID != jobID {
		return nil, codedErr(http.StatusBadRequest, "Job ID does not match")
	}
	job := args.Job
	s.jobForRequest(r, job, args.Namespace, args.Region)
	if err := validateJob(job); err != nil {
		return nil, err
	}
	st := s.st
	st.lock()
	defer st.unlock()
	if err := st.checkJobRefs(job); err != nil {
		return nil, err
	}
	k := jobKey{*job.Namespace, *job.ID}
	var existing *api.Job
	if rec := st.jobs[k]; rec != nil {
		existing = rec.job
	}
	next := st.index + 1
	planned := job
	if existing != nil && specJSON(existing) == specJSON(job) {
		planned = existing
	} else {
		planned.ModifyIndex, planned.JobModifyIndex = new(next), new(next)
		planned.Status, planned.StatusDescription, planned.Stable = new("pending"), new(""), new(false)
		planned.SubmitTime = new(st.clock.Now().UnixNano())
		if existing != nil {
			planned.CreateIndex, planned.Version = new(*existing.CreateIndex), new(*existing.Version+1)
		} else {
			planned.CreateIndex, planned.Version = new(next), new(uint64(0))
		}
	}
	now := st.clock.Now().UnixNano()
	e := &api.Evaluation{
		ID: st.ids.uuid(), Namespace: k.ns, Priority: *job.Priority, Type: *job.Type,
		TriggeredBy: triggerJobRegister, JobID: k.id, JobModifyIndex: *planned.JobModifyIndex,
		Status: api.EvalStatusPending, AnnotatePlan: true, CreateTime: now, ModifyTime: now,
	}
	p, out := s.plan(e, planned, k)
	resp := &jobPlanResponse{
		Annotations: &api.PlanAnnotations{DesiredTGUpdates: out.res.desired},
		Index:       st.index,
	}
	if existing != nil {
		resp.JobModifyIndex = *existing.JobModifyIndex
	}
	if len(out.failed) > 0 {
		resp.FailedTGAllocs = out.failed
		resp.CreatedEvals = []*api.Evaluation{s.blockedEval(e, p, out)}
	}
	if args.Diff {
		resp.Diff = jobDiff(existing, planned, out.res.desired)
	}
	setIndex(w, resp.Index)
	return resp, nil
}

// jobDiff is a structural diff at job and task-group level, with the
// scheduler's update counts on each group as Nomad annotates them;
// field-level diffs are not computed.
func jobDiff(old, cur *api.Job, desired map[string]*api.DesiredUpdates) *api.JobDiff {
	d := &api.JobDiff{ID: *cur.ID}
	switch {
	case old == nil:
		d.Type = "Added"
	case specJSON(old) == specJSON(cur):
		d.Type = "None"
	default:
		d.Type = "Edited"
	}
	names := map[string]bool{}
	for _, tg := range cur.TaskGroups {
		names[*tg.Name] = true
	}
	if old != nil {
		for _, tg := range old.TaskGroups {
			names[*tg.Name] = true
		}
	}
	for _, name := range sortedKeys(names) {
		tgd := &api.TaskGroupDiff{Name: name}
		var o, c *api.TaskGroup
		if old != nil {
			o = old.LookupTaskGroup(name)
		}
		c = cur.LookupTaskGroup(name)
		switch {
		case o == nil:
			tgd.Type = "Added"
		case c == nil:
			tgd.Type = "Deleted"
		default:
			a, _ := json.Marshal(o)
			b, _ := json.Marshal(c)
			if string(a) == string(b) {
				tgd.Type = "None"
			} else {
				tgd.Type = "Edited"
			}
		}
		if u := desired[name]; u != nil {
			tgd.Updates = map[string]uint64{}
			for key, n := range map[string]uint64{
				"ignore": u.Ignore, "create": u.Place, "migrate": u.Migrate, "destroy": u.Stop,
				"canary": u.Canary, "in-place update": u.InPlaceUpdate, "create/destroy update": u.DestructiveUpdate,
			} {
				if n != 0 {
					tgd.Updates[key] = n
				}
			}
		}
		d.TaskGroups = append(d.TaskGroups, tgd)
	}
	return d
}

func (s *Sim) validateJobRequest(w http.ResponseWriter, r *http.Request) (any, error) {
	if !methodIs(r, http.MethodPut, http.MethodPost) {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	var args api.JobValidateRequest
	if err := decodeBody(r, &args); err != nil {
		return nil, codedErr(http.StatusBadRequest, err.Error())
	}
	if args.Job == nil {
		return nil, codedErr(http.StatusBadRequest, "Job must be specified")
	}
	if args.Job.ID == nil {
		args.Job.ID = new("")
	}
	s.jobForRequest(r, args.Job, "", args.Region)
	resp := &api.JobValidateResponse{DriverConfigValidated: false}
	if err := validateJob(args.Job); err != nil {
		for _, e := range err.(multiError) {
			resp.ValidationErrors = append(resp.ValidationErrors, e.Error())
		}
		resp.Error = err.Error()
	}
	return resp, nil
}

// --- reads ---

func (s *Sim) jobList(w http.ResponseWriter, r *http.Request) (any, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	withMeta, err := parseBoolParam(r, "meta")
	if err != nil {
		return nil, err
	}
	st := s.st
	run := func() (any, uint64, error) {
		out := []*api.JobListStub{}
		var keys []jobKey
		for k := range st.jobs {
			if (q.ns == "*" || k.ns == q.ns) && strings.HasPrefix(k.id, q.prefix) {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].ns != keys[j].ns {
				return keys[i].ns < keys[j].ns
			}
			return keys[i].id < keys[j].id
		})
		for _, k := range keys {
			rec := st.jobs[k]
			if ok, err := q.keep(func() datum { return jobDatum(rec.job) }); err != nil {
				return nil, 0, err
			} else if !ok {
				continue
			}
			out = append(out, jobStub(rec, withMeta))
		}
		return out, st.tableIndex(tableJobs, tableSummary), nil
	}
	return s.blocking(w, r, q, func() uint64 { return st.tableIndex(tableJobs, tableSummary) }, run)
}

func jobStub(rec *jobRecord, withMeta bool) *api.JobListStub {
	j := rec.job
	stub := &api.JobListStub{
		ID: *j.ID, ParentID: deref(j.ParentID), Name: *j.Name, Namespace: *j.Namespace,
		Datacenters: j.Datacenters, Type: *j.Type, Priority: *j.Priority,
		Periodic: j.IsPeriodic(), ParameterizedJob: j.IsParameterized(), Stop: *j.Stop,
		Status: deref(j.Status), StatusDescription: deref(j.StatusDescription),
		JobSummary: rec.summary, CreateIndex: *j.CreateIndex, ModifyIndex: *j.ModifyIndex,
		JobModifyIndex: *j.JobModifyIndex, SubmitTime: deref(j.SubmitTime),
	}
	if withMeta {
		stub.Meta = j.Meta
	}
	return stub
}

func (s *Sim) jobInfo(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	k := jobKey{q.ns, jobID}
	return s.blocking(w, r, q, func() uint64 { return st.watchFor(k).job }, func() (any, uint64, error) {
		rec := st.jobs[k]
		if rec == nil {
			return nil, st.tableIndex(tableJobs), codedErr(http.StatusNotFound, jobNotFound)
		}
		return rec.job, *rec.job.ModifyIndex, nil
	})
}

func (s *Sim) jobSummary(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	k := jobKey{q.ns, jobID}
	return s.blocking(w, r, q, func() uint64 { return st.watchFor(k).summary }, func() (any, uint64, error) {
		rec := st.jobs[k]
		if rec == nil || rec.summary == nil {
			return nil, st.tableIndex(tableSummary), codedErr(http.StatusNotFound, jobNotFound)
		}
		return rec.summary, rec.summary.ModifyIndex, nil
	})
}

func (s *Sim) jobAllocations(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	all, _ := strconv.ParseBool(r.URL.Query().Get("all"))
	st := s.st
	k := jobKey{q.ns, jobID}
	return s.blocking(w, r, q, func() uint64 { return st.watchFor(k).allocs }, func() (any, uint64, error) {
		out := []*api.AllocationListStub{}
		for _, a := range st.jobAllocList(k, all) {
			out = append(out, allocStub(a, false, true))
		}
		return out, st.tableIndex(tableAllocs), nil
	})
}

func (s *Sim) jobEvaluations(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	k := jobKey{q.ns, jobID}
	return s.blocking(w, r, q, func() uint64 { return st.watchFor(k).evals }, func() (any, uint64, error) {
		out := []*api.Evaluation{}
		for _, e := range st.jobEvals[k] {
			out = append(out, e)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].CreateIndex > out[j].CreateIndex })
		return out, st.tableIndex(tableEvals), nil
	})
}

func (s *Sim) jobVersions(w http.ResponseWriter, r *http.Request, jobID string) (any, error) {
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	st := s.st
	k := jobKey{q.ns, jobID}
	return s.blocking(w, r, q, func() uint64 { return st.watchFor(k).job }, func() (any, uint64, error) {
		rec := st.jobs[k]
		if rec == nil {
			return nil, st.tableIndex(tableJobs), codedErr(http.StatusNotFound, "job versions not found")
		}
		versions := make([]*api.Job, 0, len(rec.versions))
		for i := len(rec.versions) - 1; i >= 0; i-- {
			versions = append(versions, rec.versions[i])
		}
		return &api.JobVersionsResponse{Versions: versions}, *rec.job.ModifyIndex, nil
	})
}

// jobDeployments answers as Nomad does for jobs without an update block:
// batch jobs never have deployments.
func (s *Sim) jobDeployments(w http.ResponseWriter, r *http.Request, jobID string, list bool) (any, error) {
	if r.Method != http.MethodGet {
		return nil, codedErr(http.StatusMethodNotAllowed, errInvalidMethod)
	}
	s.st.lock()
	idx := s.st.tableIndex(tableJobs)
	s.st.unlock()
	setMeta(w, idx)
	if list {
		return []*api.Deployment{}, nil
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("null\n"))
	return nil, nil
}
