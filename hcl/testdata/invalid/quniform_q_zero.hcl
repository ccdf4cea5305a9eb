# want: 4: Invalid function argument: Invalid value for "q" parameter: the quantisation step q must be greater than 0; got 0
experiment "steps" {
  space {
    x = quniform(0, 1, 0)
  }
  task "train" {
    command = "python3"
  }
}
