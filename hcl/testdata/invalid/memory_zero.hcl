# want: 5: Invalid value for memory: The memory must be greater than 0
experiment "memory" {
  resources {
    cpu    = 1
    memory = 0
  }
  task "train" {
    command = "python3"
  }
}
