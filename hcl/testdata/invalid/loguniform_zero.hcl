# want: 4: Invalid function argument: Invalid value for "lower" parameter: loguniform needs a lower bound greater than 0 (the logarithm of 0 is undefined)
experiment "log" {
  space {
    lr = loguniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
