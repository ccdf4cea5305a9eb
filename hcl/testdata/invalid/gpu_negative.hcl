# want: 4: Invalid value for gpu: gpu must be 0 or more; got -1
experiment "gpu" {
  resources {
    gpu = -1
  }
  task "train" {
    command = "python3"
  }
}
