console.log('grammar placeholder')
