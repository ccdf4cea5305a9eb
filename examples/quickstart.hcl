# The quick start: 12 trials of a toy trainable that needs only a POSIX
# shell. Each trial asks for half a CPU, so a 4-CPU machine runs 8 at once.
experiment "quickstart" {
  description = "Minimise a quadratic: the smallest useful experiment"
  metric      = "loss"
  mode        = "min"
  num_samples = 4
  seed        = 7

  space {
    x     = uniform(-5, 5)
    lr    = loguniform(1e-3, 1e-1)
    steps = grid([3, 5, 8])
  }

  resources {
    cpu    = 0.5
    memory = 64
  }

  task "train" {
    command = "sh"
    args    = ["quadratic.sh", "${trial.x}", "${trial.lr}", "${trial.steps}"]
  }

  failure {
    max_failures = 1
  }

  stop {
    trial_timeout = "1m"
    time_budget   = "10m"
  }
}
