# Distributed training inside each trial: a parameter server and 2 or 4
# workers, started all together or not at all (a gang). Every task gets
# TUNE_RANK (0 for the parameter server, then the workers) and
# TUNE_WORLD_SIZE. On Nomad, placement = "strict_spread" would put every
# allocation on a different node; this machine is one node, so it packs.
experiment "ddp-sweep" {
  metric      = "loss"
  mode        = "min"
  num_samples = 2
  seed        = 3

  space {
    lr      = loguniform(1e-3, 1e-1)
    workers = grid([2, 4])
  }

  group "ps" {
    resources {
      cpu    = 0.25
      memory = 64
    }
    task "ps" {
      command = "sh"
      args    = ["ddp.sh", "${trial.lr}"]
    }
  }

  group "worker" {
    count = trial.workers
    resources {
      cpu    = 0.25
      memory = 64
    }
    task "train" {
      command = "sh"
      args    = ["ddp.sh", "${trial.lr}"]
    }
  }

  failure {
    max_failures = 1
  }

  nomad {
    gang_timeout = "5m"
  }
}
