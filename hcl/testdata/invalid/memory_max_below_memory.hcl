# want: 5: Invalid value for memory_max: memory_max (1024 MiB) must be at least memory (2048 MiB)
experiment "memory" {
  resources {
    memory     = "2GiB"
    memory_max = "1GiB"
  }
  task "train" {
    command = "python3"
  }
}
