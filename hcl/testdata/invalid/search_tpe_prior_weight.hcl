# want: 4: Invalid value for prior_weight: prior_weight must be greater than 0 and at most 1e6; got 0.
experiment "s" {
  search "tpe" {
    prior_weight = 0
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
