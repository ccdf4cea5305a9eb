# Three groups: ranks 0-2 (workers, from NOMAD_ALLOC_INDEX), 3-4 (parameter
# servers, NOMAD_ALLOC_INDEX + 3 through a template) and 5 (the evaluator,
# written out), world size 6; soft spread over nodes.
experiment "ddp" {
  placement = "spread"

  space {
    lr      = loguniform(1e-4, 1e-2)
    workers = grid([3])
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

  group "ps" {
    count = 2
    resources {
      cpu    = 2
      memory = "4GiB"
    }
    task "ps" {
      command = "python3"
      args    = ["ps.py", "--workers=${trial.workers}"]
    }
  }

  group "evaluator" {
    task "eval" {
      command = "python3"
      args    = ["eval.py"]
    }
  }
}
