# want: 4: Invalid function argument: Invalid value for "values" parameter: grid needs at least one value: grid([]) would give no trials at all
experiment "grid" {
  space {
    layers = grid([])
  }
  task "train" {
    command = "python3"
  }
}
