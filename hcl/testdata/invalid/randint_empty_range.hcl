# want: 5: Invalid function argument: Invalid value for "upper" parameter: the upper bound (5) must be greater than the lower bound (5)
experiment "ints" {
  space {
    x      = uniform(0, 1)
    layers = randint(5, 5)
  }
  task "train" {
    command = "python3"
  }
}
