# want: 4: Invalid value for gpu: The gpu must be a number; this is string
experiment "gpu" {
  resources {
    gpu = "one"
  }
  task "train" {
    command = "python3"
  }
}
