# want: 4: Invalid function argument: Invalid value for "mean_and_sd" parameter: the standard deviation must be greater than 0; got 0
experiment "normal" {
  space {
    noise = randn(0, 0)
  }
  task "train" {
    command = "python3"
  }
}
