# want: 3: Invalid value for num_samples: num_samples must be between 1 and 250000; got -2
experiment "neg" {
  num_samples = -2
  task "t" {
    command = "true"
  }
}
