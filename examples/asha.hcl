# Early stopping: 24 trials of the quick start's toy trainable, each
# training for 20 steps, under asynchronous successive halving. A trial
# whose loss is in the worst half of those that reached the same rung
# (steps 2, 4, 8 and 16) is stopped there, and the next trial takes its
# place; `tune results` lists the stopped trials and why.
experiment "asha" {
  description = "Minimise a quadratic, stopping bad trials early"
  metric      = "loss"
  mode        = "min"
  num_samples = 24
  seed        = 7

  max_concurrent_trials = 4

  space {
    x  = uniform(-5, 5)
    lr = loguniform(1e-3, 1e-1)
  }

  resources {
    cpu    = 0.5
    memory = 64
  }

  task "train" {
    command = "sh"
    args    = ["quadratic.sh", "${trial.x}", "${trial.lr}", "20"]
  }

  scheduler "asha" {
    time_attr        = "step"
    max_t            = 20
    grace_period     = 2
    reduction_factor = 2
  }
}
