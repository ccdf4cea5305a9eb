# want: 3: Invalid value for num_samples: num_samples must be a number; this is string
experiment "typed" {
  num_samples = "x"
  task "train" {
    command = "python3"
  }
}
