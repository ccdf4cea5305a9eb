# Everything on one node: two workers of two tasks each and one parameter
# server become one task group of five tasks with ranks written out.
experiment "packed" {
  placement = "strict_pack"

  space {
    lr = grid([0.01])
  }

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "worker" {
    count = 2
    task "train" {
      leader  = true
      command = "python3"
      args    = ["worker.py", "--lr=${trial.lr}"]
      resources {
        cpu    = 1.5
        memory = 512
      }
    }
    task "monitor" {
      command = "./monitor.sh"
      resources {
        cpu    = 0.1
        memory = 64
      }
    }
  }

  group "ps" {
    constraint {
      attribute = "${node.class}"
      value     = "big"
    }
    task "ps" {
      command = "python3"
      args    = ["ps.py"]
    }
  }
}
