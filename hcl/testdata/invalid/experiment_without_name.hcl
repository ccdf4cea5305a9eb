# want: 2: Missing name for experiment: All experiment blocks must have 1 labels (name)
experiment {
  task "train" {
    command = "python3"
  }
}
