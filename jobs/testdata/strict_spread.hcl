# Every allocation on its own node.
experiment "spread-out" {
  placement = "strict_spread"

  space {
    seed = randint(0, 1000)
  }

  group "worker" {
    count = 3
    resources {
      cpu    = 4
      memory = "2GiB"
    }
    task "train" {
      command = "python3"
      args    = ["worker.py", "--seed=${trial.seed}"]
    }
  }
}
