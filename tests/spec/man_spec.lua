-- The manual page docs/cnet.1: man renders it without a warning, `cmake --install` puts it in
-- man1, and it describes every option `cnet --help` lists (so the two cannot drift apart).
local page = H.source .. "/docs/cnet.1"

describe("the cnet(1) manual page", function()
  it("renders with man --warnings without a single warning", function()
    if not H.try("command -v man >/dev/null") then
      error("man is not installed (package man-db): the page cannot be checked")
    end
    local ok, out = H.try("MANWIDTH=80 man --warnings -l " .. page .. " 2>&1 >/dev/null")
    assert.is_true(ok, out)
    assert.are.equal("", out)
    local text = H.sh("MANWIDTH=80 man -l " .. page)
    assert.truthy(text:find("NAME%s+cnet %- "), text)
    assert.truthy(text:find("SYNOPSIS", 1, true), text)
  end)

  it("describes every option of cnet --help", function()
    local help = H.sh(H.bin .. " --help")
    local text = H.sh("MANWIDTH=200 man -l " .. page)
    -- an option paragraph starts a line of its own in the rendered OPTIONS section
    local options = "\n" .. assert(text:match("\nOPTIONS\n(.-)\n%u[%u ]+\n"), text)
    local n = 0
    for opt in help:gmatch("\n%s+(%-%-?[%w-]*)") do
      n = n + 1
      assert.truthy(options:find("\n%s+" .. opt:gsub("%p", "%%%0") .. "[%s,]"),
        "the man page does not describe " .. opt)
    end
    assert.is_true(n >= 7, help)
  end)

  it("is installed into share/man/man1 by cmake --install", function()
    local prefix = H.sh("mktemp -d")
    H.sh(("cmake --install %s --prefix %s"):format(H.build, prefix))
    local installed = H.read(prefix .. "/share/man/man1/cnet.1")
    H.sh("rm -rf " .. prefix)
    assert.are.equal(H.read(page), installed)
  end)
end)
