# Parameter text that Markdown would read as syntax: links, emphasis,
# code, headings, HTML and line breaks must show as they are written.
experiment "md_params.v1" {
  metric = "val_*loss*"
  mode   = "min"

  space {
    note  = grid(["[click](https://evil.example.com) **bold** `code`\n# heading <img src=x>"])
    lr    = 0.01
  }

  task "train" {
    command = "python3"
    args    = ["train.py"]
  }
}
