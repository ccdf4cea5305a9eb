# want: 3: Invalid value for num_samples: num_samples must be between 1 and 250000; got 1e+10
experiment "many" {
  num_samples = 1e10
  task "train" {
    command = "python3"
  }
}
