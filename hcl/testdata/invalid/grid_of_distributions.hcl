# want: 4: Invalid function argument: Invalid value for "values" parameter: grid takes plain values, not other distributions
experiment "grid" {
  space {
    x = grid([uniform(0, 1), uniform(1, 2)])
  }
  task "train" {
    command = "python3"
  }
}
