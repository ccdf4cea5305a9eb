# want: 3: Unknown search algorithm: "bayesopt" is not a search algorithm: use "random", "grid" or "tpe".
experiment "s" {
  search "bayesopt" {}
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
