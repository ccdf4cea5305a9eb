# want: 3: Two resources blocks for one task: Task "train" has its own resources block at
experiment "resources" {
  resources {
    cpu = 1
  }
  task "train" {
    command = "python3"
    resources {
      cpu = 2
    }
  }
}
