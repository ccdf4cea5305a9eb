# want: 5: Invalid value for device count: The device count must be at least 0; got -1
experiment "devices" {
  resources {
    device "nvidia/gpu" {
      count = -1
    }
  }
  task "train" {
    command = "python3"
  }
}
