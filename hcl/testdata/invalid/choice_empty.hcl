# want: 4: Invalid function argument: Invalid value for "values" parameter: choice needs at least one value: choice([]) has nothing to choose from
experiment "choice" {
  space {
    opt = choice([])
  }
  task "train" {
    command = "python3"
  }
}
