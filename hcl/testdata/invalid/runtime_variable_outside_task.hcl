# want: 3: Unknown variable: attr is one of Nomad's runtime variables
experiment "arch" {
  description = "runs on ${attr.cpu.arch}"
  task "train" {
    command = "python3"
  }
}
