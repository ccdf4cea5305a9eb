# Distributed training inside each trial: 4 workers and a parameter server,
# placed all or nothing (a gang), each worker on a different node. Every
# task gets TUNE_RANK (0..4) and TUNE_WORLD_SIZE (5).
experiment "ddp-sweep" {
  metric      = "loss"
  mode        = "min"
  num_samples = 4
  placement   = "strict_spread"

  space {
    lr      = loguniform(1e-4, 1e-2)
    workers = grid([2, 4])
  }

  group "ps" {
    resources {
      cpu    = 2
      memory = "4GiB"
    }
    task "ps" {
      command = "python3"
      args    = ["ps.py", "--workers=${trial.workers}"]
    }
  }

  group "worker" {
    count = trial.workers
    resources {
      cpu    = 8
      memory = "32GiB"
      gpu    = 1
    }
    task "train" {
      command = "python3"
      args    = ["worker.py", "--lr=${trial.lr}"]
    }
  }

  failure {
    max_failures = 1
  }

  nomad {
    gang_timeout = "5m"
  }
}
