# want: 7: Duplicate experiment block: A file holds one experiment
experiment "first" {
  task "train" {
    command = "python3"
  }
}
experiment "second" {
  task "train" {
    command = "python3"
  }
}
