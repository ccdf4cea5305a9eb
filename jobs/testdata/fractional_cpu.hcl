# Half a core: with 2400 MHz per core the task asks Nomad for 1200 MHz.
experiment "fractional" {
  space {
    lr = loguniform(1e-4, 1e-1)
  }

  resources {
    cpu    = 0.5
    memory = 256
  }

  task "train" {
    driver  = "exec"
    command = "/usr/bin/python3"
    args    = ["train.py", "--lr=${trial.lr}"]
  }
}
