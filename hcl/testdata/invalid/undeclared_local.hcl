# want: 8: Reference to undeclared local value: No local value named "script_dir" is declared (did you mean "scripts_dir"?)
locals {
  scripts_dir = "/opt/train"
}
experiment "locals" {
  task "train" {
    command = "python3"
    args    = ["${local.script_dir}/train.py"]
  }
}
