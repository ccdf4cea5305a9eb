# want: 3: Invalid value for on_unfit: on_unfit must be one of "wait", "queue"; got "skip"
experiment "unfit" {
  on_unfit = "skip"
  task "train" {
    command = "python3"
  }
}
