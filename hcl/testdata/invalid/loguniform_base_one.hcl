# want: 4: Invalid function argument: Invalid value for "base" parameter: the logarithm base must be greater than 0 and not 1; got 1
experiment "log" {
  space {
    lr = loguniform(1e-4, 1e-1, 1)
  }
  task "train" {
    command = "python3"
  }
}
