# Nomad restarts a failed task twice in place; tune then retries the whole
# trial (max_failures), which this golden shows as attempt 1.
experiment "flaky" {
  space {
    x = grid([1])
  }

  task "train" {
    command = "./flaky.sh"
    args    = ["${trial.x}"]
  }

  failure {
    max_failures = 2
    restarts     = 2
  }
}
