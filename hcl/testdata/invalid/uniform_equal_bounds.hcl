# want: 4: Invalid function argument: Invalid value for "upper" parameter: the upper bound (1) must be greater than the lower bound (1)
experiment "flat" {
  space {
    x = uniform(1, 1)
  }
  task "train" {
    command = "python3"
  }
}
