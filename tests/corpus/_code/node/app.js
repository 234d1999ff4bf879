// A stub handler shared by the corpus templates: the controls judge configuration, not code.
exports.handler = async () => ({ statusCode: 200, body: "ok" });
