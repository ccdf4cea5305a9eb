# A GPU only when the optimiser is adam: trial 0 has one, trial 1 none.
experiment "gpu-sweep" {
  metric = "val_loss"
  mode   = "max"

  space {
    opt = grid(["adam", "sgd"])
  }

  resources {
    cpu    = 4
    memory = "8GiB"
    gpu    = trial.opt == "adam" ? 1 : 0
  }

  task "train" {
    command = "python3"
    args    = ["train.py", "--opt=${trial.opt}"]
  }

  nomad {
    datacenters = ["gpu-dc"]
  }
}
