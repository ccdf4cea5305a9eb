# Whole cores, memory oversubscription, and a device request with a
# constraint on the device, plus a node constraint.
experiment "devices" {
  space {
    size = grid(["large"])
  }

  resources {
    cores      = 4
    memory     = "16GiB"
    memory_max = "24GiB"
    device "nvidia/gpu" {
      count = 2
      constraint {
        attribute = "${device.attr.memory}"
        operator  = ">="
        value     = "40 GiB"
      }
    }
  }

  constraint {
    attribute = "${attr.cpu.arch}"
    value     = "amd64"
  }

  task "train" {
    command = "python3"
    args    = ["train.py", "--size=${trial.size}"]
  }
}
