# want: 6: Invalid value for env EPOCHS: The env EPOCHS must be a string; this is tuple
experiment "env" {
  task "train" {
    command = "python3"
    env {
      EPOCHS = [10]
    }
  }
}
