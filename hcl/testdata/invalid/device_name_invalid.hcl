# want: 4: Invalid device name: "nvidia gpu" is not a device name
experiment "devices" {
  resources {
    device "nvidia gpu" {
      count = 1
    }
  }
  task "train" {
    command = "python3"
  }
}
