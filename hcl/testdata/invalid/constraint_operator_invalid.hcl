# want: 5: Invalid constraint operator: "~=" is not a constraint operator
experiment "constrained" {
  constraint {
    attribute = "${attr.cpu.arch}"
    operator  = "~="
    value     = "amd64"
  }
  task "train" {
    command = "python3"
  }
}
