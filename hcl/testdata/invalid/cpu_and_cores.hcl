# want: 5: Both cpu and cores: Ask for cpu
experiment "cpu" {
  resources {
    cpu   = 2
    cores = 2
  }
  task "train" {
    command = "python3"
  }
}
