# A trial may run for ten minutes (Nomad max_run_duration); the task is
# Nomad's mock driver, whose config passes through unchanged.
experiment "timed" {
  space {
    steps = grid([10])
  }

  task "train" {
    driver = "mock_driver"
    config {
      run_for       = "2s"
      exit_code     = 0
      stdout_string = "@tune {\"loss\": ${trial.steps}}\n"
    }
  }

  stop {
    time_budget   = "1h"
    trial_timeout = "10m"
  }
}
