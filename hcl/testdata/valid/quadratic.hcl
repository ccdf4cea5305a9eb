# The example of DESIGN.md §4, with one attribute a line.
experiment "quadratic" {
  metric = "loss"
  mode   = "min"
  num_samples           = 8
  max_concurrent_trials = 4
  seed                  = 1

  space {
    x      = uniform(-5, 5)
    lr     = loguniform(1e-4, 1e-1)
    layers = grid([2, 3, 4])
    opt    = choice(["adam", "sgd"])
  }

  resources {
    cpu    = 0.5
    memory = 256
    gpu    = trial.opt == "adam" ? 1 : 0
  }

  task "train" {
    driver  = "raw_exec"
    command = "python3"
    args    = ["train.py", "--x=${trial.x}", "--layers=${trial.layers}"]
  }

  failure {
    max_failures = 2
  }
  stop {
    time_budget   = "1h"
    trial_timeout = "10m"
  }
  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
    priority    = 40
  }
}
