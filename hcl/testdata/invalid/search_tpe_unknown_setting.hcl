# want: 4: Unsupported argument: An argument named "gamma" is not expected here.
experiment "s" {
  search "tpe" {
    gamma = 0.25
  }
  space {
    x = uniform(0, 1)
  }
  metric = "loss"
  mode   = "min"
  task "train" {
    command = "python3"
  }
}
