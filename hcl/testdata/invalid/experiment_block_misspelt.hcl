# want: 2: Unsupported block type: Blocks of type "experiments" are not expected here. Did you mean "experiment"?
experiments "typo" {
  task "train" {
    command = "python3"
  }
}
