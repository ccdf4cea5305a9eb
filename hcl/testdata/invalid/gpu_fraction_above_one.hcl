# want: 4: Invalid value for gpu: A request for more than one GPU must be a whole number; got 1.5
experiment "gpu" {
  resources {
    gpu = 1.5
  }
  task "train" {
    command = "python3"
  }
}
