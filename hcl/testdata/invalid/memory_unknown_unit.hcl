# want: 4: Invalid value for memory: Unknown size unit "parsecs" in "12 parsecs"; use B, KiB, MiB, GiB, TiB
experiment "memory" {
  resources {
    memory = "12 parsecs"
  }
  task "train" {
    command = "python3"
  }
}
