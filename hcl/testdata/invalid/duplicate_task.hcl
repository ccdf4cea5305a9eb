# want: 6: Duplicate task: A task named "train" was already defined at
experiment "tasks" {
  task "train" {
    command = "python3"
  }
  task "train" {
    command = "python3"
  }
}
