# want: 6: Duplicate space block: An experiment has at most one space block
experiment "spaces" {
  space {
    x = uniform(0, 1)
  }
  space {
    y = uniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
